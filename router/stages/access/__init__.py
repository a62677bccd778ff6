"""Authorization helpers for :mod:`router.stages.authorize`: which selections are guarded
(:mod:`.guards`), the operation without the denied ones (:mod:`.filter`) and configured policies
(:mod:`.policies`)."""
