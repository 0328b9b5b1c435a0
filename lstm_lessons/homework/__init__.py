"""The homework: checks of students' functions, the grader in the notebook, grading a class.

    checks     plain-language checks shared by every exercise set
    sets       checks specific to one exercise set
    runner     manifests, and running one test against a notebook's variables
    notebook   Grader: ``grader.check("q1")`` inside an exercise notebook
    grading    grading a folder of submissions into a gradebook (the trusted side)
    collect    finding, copying, hashing and reading the submissions
    score      one submission's row: sandbox, checks, points, reasons; copies flagged
    gradebook  what grading writes: gradebook, feedback, written answers, summary, LMS files
    cli        the command line, ``python -m lstm_lessons.grade``
    sandbox    starting, asking and killing a sandboxed submission (bubblewrap)
    protocol   the plain-data messages between the grader and a sandbox
    worker     the child process that runs one submission, inside the sandbox
    manifests  the public tests of each set (JSON, shipped with the package)
"""
