"""The experiments of the book, one module per chapter topic.

    chapter                                module
    1  The simple RNN and its memory        rnn_memory
    2  Vanishing and exploding gradients    vanishing_gradients
    3  The cell state                       cell_state
    4  The forget gate                      forget_gate
    5  The input gate and the candidate     input_gate
    6  The cell as a leaky integrator       leaky_integrator
    7  The output gate                      output_gate
    8  Hard-sigmoid gates                   hard_sigmoid
    9  Coupled gates: CIFG and the GRU      coupled_gates
    10 Peepholes and dynamics               peephole_dynamics
    11 Which parts matter? An ablation      ablation
    12 The gates at work                    regimes, motifs, char_language
    13 The LSTM in context                  in_context
    14 Gates that read only the input       parallel_scan
    15 xLSTM                                xlstm
    16 What the recurrence buys             state_tracking

Each module trains and measures with the layers below it (cells, pytorch,
training) and returns plain results that the chapter plots and the tests pin.
"""

from .._torch import require_torch

require_torch("lstm_lessons.experiments")
