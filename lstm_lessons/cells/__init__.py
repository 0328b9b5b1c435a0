"""The NumPy cells and their tools: forward beside backward, as pure functions. No torch.

    activations  sigmoid, hard sigmoid, tanh and their derivatives
    variants     which switches an LSTM variant sets, and its parameters
    lstm         the LSTM engine: every variant, fused in-place steps, BPTT
    rnn, gru     the simple RNN and the GRU
    attention    a causal Transformer block, to compare with an LSTM layer
    scan         h_t = a_t h_{t-1} + b_t: the loop, parallel scans, log space, the backward
    minimal      minGRU and minLSTM: gates that read only the input, computed by a scan
    slstm, mlstm xLSTM's cells: exponential gates with a stabiliser; a matrix memory
    ssm          a diagonal selective state-space layer (Mamba-style), a gated linear recurrence
    parity       parity by hand: a linear unit with transition -1, and why [0, 1] cannot
    leaky        the leaky integrator and the EMA that the cell update generalises
    bptt         how much of a gradient survives backpropagation through time
    gradcheck    centred finite differences and relative error
    validation   argument checks that say what was expected and what came
    initialise   uniform initialisation like torch.nn's
"""
