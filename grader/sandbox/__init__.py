"""The sandbox: the untrusted worker that runs student code, and the trusted side's handle on it.

Worker side (imported inside the sandbox, by `python -I` under bubblewrap, Landlock and seccomp):
`worker` and only what it imports: `wire`, `standins`, `available_modules`, `process`,
`capabilities`, `landlock`, `seccomp`. Trusted side: `handle` (StudentModule) composes
`worker_process`, which starts the worker as a process and is the only module that names it,
`loader`, which runs the submission in it, and `calls`, which calls its functions; `limits`
holds their limits and budgets, `scratch` their folder; `messages` parses what the worker
says; `isolation` (with `isolation_warnings`) chooses the layers and builds the command line.

This file imports nothing: the worker imports the package on its way to its own module.
"""
