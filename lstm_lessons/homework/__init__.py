"""The homework: checks of students' functions, the grader in the notebook, grading a class.

    checks     plain-language checks shared by every exercise set
    sets       checks specific to one exercise set
    runner     manifests, and running one test against a notebook's variables
    notebook   Grader: ``grader.check("q1")`` inside an exercise notebook
    grading    grading a folder of submissions into a gradebook
    worker     the child process that runs one submission
    manifests  the public tests of each set (JSON, shipped with the package)
"""
