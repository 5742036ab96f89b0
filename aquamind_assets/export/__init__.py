"""The simulation's exporters: the rows of one year of each warehouse table, rendered from the plan.

Each renderer is a pure function of (plan, year) emitting column arrays keyed by the `Table` they
fill (warehouse/tables*.py). Imports run one way: export -> sim and the warehouse's table specs.
"""
