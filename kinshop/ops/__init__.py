"""How Kinshop runs outside a request: the time-driven jobs (`kinshop run-jobs`)
and the task worker that carries out recorded money calls (`kinshop worker`).
It sits above every domain app and below the project's wiring."""
