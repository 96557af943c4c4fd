"""The statistical engine: measures, tau^2 estimators, pooling, GLMM, sensitivity, results and their print.

No knowledge of this review: it could be a package of its own.
"""
