"""Training of the focus network (imports torch): samples made on the fly (:mod:`.data`), the
loop (:mod:`.loop`), the shipped recipe (:mod:`.recipe`) and the paper's experiment
(:mod:`.experiment`). Command line: ``dofkit train``."""
