"""`fovalidate plan`: the commands an admin will run to create each failover relationship.

`build` turns the inventory (and, when given, a check run's findings and facts)
into steps; `render` prints them for people, as a PowerShell script or as JSON;
`evidence` reads the facts from a JSON report or a run made now. fovalidate
never runs a step.
"""

from fovalidate.plan.build import Evidence, Plan, PlanError, PlanStep, RelationshipPlan, build_plan

__all__ = ["Evidence", "Plan", "PlanError", "PlanStep", "RelationshipPlan", "build_plan"]
