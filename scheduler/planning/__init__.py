"""Planning: slot instances, the planner and its rules, re-plans and an editor's hand on the plan."""
