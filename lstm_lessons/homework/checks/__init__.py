"""Plain-language checks of students' implementations, for the exercise notebooks.

Each check takes the student's function, runs it on seeded inputs (N, D, H all
different, non-zero biases, float64) beside the package's own implementation,
and either returns a short "passed" line or raises :class:`CheckFailed`, a
subclass of ``AssertionError``, whose message says what was expected, what came
(shape, dtype, NaN, the largest error and where: which entry, gate block or
time step) and, where the student's output equals what a known mistake computes,
which mistake that is. A function that raises is reported by exception type,
message and line, never by traceback; a function that changes its inputs in
place fails.

    check                        the student's function
    check_sigmoid                sigmoid(x) -> y
    check_forget_gate            forget_gate(x, h_prev, W_xf, W_hf, b_f) -> f
    check_cell_update            cell_update(f, i, g, c_prev) -> c
    check_ema                    ema(x, a) -> c                          x, c (T,)
    check_rnn_step               rnn_step(x, h_prev, W_x, W_h, b) -> h
    check_lstm_step              lstm_step(x, h_prev, c_prev, W_x, W_h, b) -> (h, c)
    check_cifg_step              cifg_step(x, h_prev, c_prev, W_x, W_h, b) -> (h, c)
    check_peephole_gate          peephole_gates(a, c_prev, p_i, p_f, p_o) -> (i, f, g, o, c)
    check_gru_step               gru_step(x, h_prev, W_x, W_h, b, b_hn) -> h
    check_lstm_step_backward     lstm_cell_backward(dh, dc, i, f, g, o, c_prev, c)
                                     -> (da_i, da_f, da_g, da_o, dc_prev)
    check_clip_gradients         clip_gradients(grads, max_norm) -> list of arrays
    check_gradient               grad_fn(x, dout) -> dx, against f(x) by centred differences
    check_state_distance         state_distance(x, x_prime, h0, params) -> d   d (T,)
    check_shrink                 shrink, a number computed from d

Every docstring gives the equations. An entry counts as right within
``np.allclose(rtol=1e-5, atol=1e-6)``, so loops, separate matmuls per gate and
float32 arithmetic inside pass; the result must keep the inputs' dtype.
``check_gradient`` uses the relative error of ``gradcheck`` instead (below 1e-6).

In an otter-grader exception-based test, where the student then reads
``CheckFailed: <message>`` under the line of the test that failed::

    from otter.test_files import test_case
    from lstm_lessons.homework.checks import check_lstm_step

    @test_case(points=1)
    def test_lstm_step(lstm_step):
        check_lstm_step(lstm_step)
"""

from .calling import CheckFailed
from .cells import (
    check_cifg_step,
    check_gru_step,
    check_lstm_step,
    check_peephole_gate,
    check_rnn_step,
)
from .experiments import check_shrink, check_state_distance
from .gates import check_cell_update, check_ema, check_forget_gate, check_sigmoid
from .gradients import check_clip_gradients, check_gradient, check_lstm_step_backward

__all__ = [
    "CheckFailed",
    "check_sigmoid",
    "check_state_distance",
    "check_shrink",
    "check_forget_gate",
    "check_cell_update",
    "check_ema",
    "check_rnn_step",
    "check_lstm_step",
    "check_cifg_step",
    "check_peephole_gate",
    "check_gru_step",
    "check_lstm_step_backward",
    "check_clip_gradients",
    "check_gradient",
]
