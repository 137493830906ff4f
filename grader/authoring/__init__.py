"""What an instructor writes an assignment's checks with: what a check is and its generic kinds
(`checks`), hypothesis strategies and case recipes (`strategies`), tolerant comparison
(`compare`), finite-difference gradients (`gradcheck`) and naming the misconception behind a
failure (`diagnosis`). Assignments import these; grading runs what they build.
"""
