"""Training small recurrent models on synthetic tasks.

    tasks   seeded synthetic sequence tasks (adding, delayed recall, key/query, ...)
    recall_tasks  associative recall and the replace-an-item task (chapter 15)
    state_tasks   parity of a bit stream, inside and beyond the training lengths (chapter 16)
    model   SequenceModel: a recurrent layer and a linear readout
    loop    train() and evaluate(): Adam or SGD, clipping, a history of the run
    harness the one recipe of every experiment: seeded fit, batch seeds, held-out seed
    ensemble  E LSTMs stacked along a model axis, trained at once, each as if alone
    wide    E standard models side by side in one wide block-diagonal layer (pays for the
            simple RNN and the GRU, whose fused PyTorch layers are overhead-bound)
"""

from .._torch import require_torch

require_torch("lstm_lessons.training")
