"""The NumPy cells and their tools: forward beside backward, as pure functions. No torch.

    activations  sigmoid, hard sigmoid, tanh and their derivatives
    variants     which switches an LSTM variant sets, and its parameters
    lstm         the LSTM engine: every variant, fused in-place steps, BPTT
    rnn, gru     the simple RNN and the GRU
    attention    a causal Transformer block, to compare with an LSTM layer
    leaky        the leaky integrator and the EMA that the cell update generalises
    bptt         how much of a gradient survives backpropagation through time
    gradcheck    centred finite differences and relative error
    validation   argument checks that say what was expected and what came
    initialise   uniform initialisation like torch.nn's
"""
