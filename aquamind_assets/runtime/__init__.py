"""Where the pipeline runs: settings resolved from the environment (the only reader of it), the
database (given, or an embedded server), and the plan cache shared by run processes."""
