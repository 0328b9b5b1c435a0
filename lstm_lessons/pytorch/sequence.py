r"""The torch engine over a whole sequence: forward, and a hand-written backward.

:func:`run_sequence` gives what a loop of :func:`~lstm_lessons.pytorch.cells.lstm_cell`
steps gives, as one autograd operation. The models of the course are so small that a
step costs in per-operation overhead, not arithmetic: autograd records about a dozen
operations per step and replays as many in backward. Here the forward loop runs without
recording, and the backward loop issues five to seven operations per step, because
everything in the gradient that does not depend on the step's incoming gradients is
computed for all steps at once, before the loop (``torch.nn.LSTM`` gets its speed the
same way, in C++).

The backward is the one of :func:`lstm_lessons.cells.lstm.lstm_step_backward` (the
equations below, for every variant), regrouped: with the stored values of step t,

.. math::

    \delta c_t = \delta c^{\rightarrow}_t + \delta h_t \odot K_t
    K_t = o_t \odot \tanh'(c_t) + p_o \odot \tanh(c_t) \odot \sigma'_o
    \delta a_t = [\delta c_t, \delta c_t, \delta c_t, \delta h_t] \odot [M^i_t, M^f_t, M^g_t, M^o_t]
    M^i_t = g_t \odot \sigma'_i, \quad M^f_t = c_{t-1} \odot \sigma'_f
    M^g_t = i_t \odot \tanh'(g_t), \quad M^o_t = \tanh(c_t) \odot \sigma'_o
    \delta h_{t-1} = \delta h^{\mathrm{out}}_{t-1} + (\delta a_t\, W_{\mathrm{rec}}^\top)_h
    \delta c^{\rightarrow}_{t-1} = \delta c_t \odot f_t + (\delta a_t\, W_{\mathrm{rec}}^\top)_c

where :math:`\sigma'` is the gate function's derivative at the gate's value and the
variants change K, M and f as their one line changes the cell (CIFG: f = 1 - i, so
:math:`M^i_t = (g_t - c_{t-1}) \odot \sigma'_i`; a gate that is absent is 1 and has no
block). The subscripts h and c are the rows of the product that belong to
:math:`h_{t-1}` and, where i or f reads the cell, to :math:`c_{t-1}`. K and M are
computed for all t before the loop. The weight gradients are
then one matrix product over all steps. Tested against autograd through the step-by-step
cells and against the NumPy cells' backward, for every variant (tests/test_sequence.py).
"""

import torch


def _flat(x):
    """(T, ..., N, K) -> (..., T*N, K): the steps and the batch as one axis of rows."""
    return x.movedim(0, -3).flatten(-3, -2)


def _gate_grad(v, y):
    """The gate function's derivative at its value y (the engine's affine form)."""
    if v.gate_fn == "sigmoid":
        return y * (1.0 - y)
    # Clipped to [0, 1]: slope 1 strictly inside, 0 from 0 and 1 on, as hard_sigmoid_grad.
    return ((y > 0.0) & (y < 1.0)).to(y.dtype)


class _Sequence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, cell, ax, h0, c0, W_rec, p_o, v):
        H = h0.shape[-1]
        reads_c = W_rec.shape[-2] > H
        addmm = torch.addmm if W_rec.dim() == 2 else torch.baddbmm
        idx = {k: slice(n * H, (n + 1) * H) for n, k in enumerate(v.gates)}
        h, c = h0, c0
        ins, ys, gs, cs, os_, tcs, hs = [], [], [], [], [], [], []
        for ax_t in ax.unbind(0):
            hin = torch.cat([h, c], dim=-1) if reads_c else h
            h, c_new, (y, g, o, tc) = cell(addmm(ax_t, hin, W_rec), c, p_o, v, parts=True)
            for saved, value in zip((ins, ys, gs, cs, os_, tcs, hs), (hin, y, g, c, o, tc, h),
                                    strict=True):
                saved.append(value)
            c = c_new
        out = torch.stack(hs)
        ctx.v, ctx.H, ctx.idx, ctx.reads_c = v, H, idx, reads_c
        ctx.ins, ctx.ys, ctx.gs = torch.stack(ins), torch.stack(ys), torch.stack(gs)
        ctx.c_prev, ctx.tcs = torch.stack(cs), torch.stack(tcs)
        ctx.os = torch.stack(os_) if v.peephole and v.output_gate else None
        ctx.c_last = c
        ctx.save_for_backward(W_rec, p_o)
        return out, c

    @staticmethod
    def backward(ctx, d_out, d_c_last):
        W_rec, p_o = ctx.saved_tensors
        v, H, idx = ctx.v, ctx.H, ctx.idx
        Y, G, C_prev, TC = ctx.ys, ctx.gs, ctx.c_prev, ctx.tcs
        T = Y.shape[0]
        # Everything that does not depend on the incoming gradients, for all steps at once.
        one = Y.new_ones(())
        i = Y[..., idx["i"]] if v.input_gate else one
        if v.cifg:
            f = 1.0 - i
        else:
            f = Y[..., idx["f"]] if v.forget_gate else one
        if v.output_gate:
            o = ctx.os if ctx.os is not None else Y[..., idx["o"]]
            do_da = _gate_grad(v, o)
        else:
            o = one
        dtc = 1.0 - TC * TC if v.output_activation else one
        K = o * dtc
        if v.peephole and v.output_gate:
            K = K + p_o * TC * do_da  # o reads c_t: a_o gains p_o * c_t
        blocks = []  # M, block by block
        for k in v.gates:
            if k == "i":
                blocks.append(((G - C_prev) if v.cifg else G) * _gate_grad(v, i))
            elif k == "f":
                blocks.append(C_prev * _gate_grad(v, f))
            elif k == "g":
                dg = 1.0 - G * G if v.input_activation else one
                blocks.append((i * dg).expand_as(G))
            else:
                blocks.append(TC * do_da)
        M = torch.cat(blocks, dim=-1)
        dax = torch.empty_like(M)
        # dc feeds every block but o's, which comes last: those n_c blocks are one product of
        # dc with M, written straight into dax. Per-step views are made once, here.
        n_c = len(v.gates) - v.output_gate
        M_c, da_c = (z[..., : n_c * H].unflatten(-1, (n_c, H)).unbind(0) for z in (M, dax))
        if v.output_gate:
            M_o, da_o = (z[..., n_c * H :].unbind(0) for z in (M, dax))
        F = f.expand_as(C_prev).unbind(0) if v.cifg or v.forget_gate else None  # NFG: f = 1
        K = K.expand_as(C_prev).unbind(0)
        d_out = d_out.unbind(0)
        da = dax.unbind(0)

        W_rec_T = W_rec.transpose(-1, -2).contiguous()
        dh = d_out[T - 1]
        dc = d_c_last
        for t in range(T - 1, -1, -1):
            dc = torch.addcmul(dc, dh, K[t])
            torch.mul(M_c[t], dc.unsqueeze(-2), out=da_c[t])
            if v.output_gate:
                torch.mul(M_o[t], dh, out=da_o[t])
            dhc = da[t] @ W_rec_T
            carried = dc if F is None else dc * F[t]
            dc = carried + dhc[..., H:] if ctx.reads_c else carried
            dh = dhc[..., :H] + d_out[t - 1] if t > 0 else dhc[..., :H]
        dW_rec = _flat(ctx.ins).transpose(-1, -2) @ _flat(dax)
        dp_o = None
        if v.peephole and v.output_gate:
            c_new = torch.cat([C_prev[1:], ctx.c_last.unsqueeze(0)])
            dp_o = _flat(dax[..., idx["o"]] * c_new).sum(-2, keepdim=True)
        return None, dax, dh, dc, dW_rec, dp_o, None


def run_sequence(cell, ax, h0, c0, W_rec, p_o, v):
    """The engine's LSTM over all T steps: ``(outputs (T, ..., H), c_T (..., H))``.

    ``cell`` is :func:`~lstm_lessons.pytorch.cells.lstm_cell` (passed in, because that module
    builds on this one), which the forward pass runs step by step with ``parts=True``.

    ``ax`` (T, ..., G*H) holds each step's input projection with the bias, ``h0``, ``c0``
    (..., H) the initial state, ``W_rec`` and ``p_o`` come from
    :func:`~lstm_lessons.pytorch.cells.engine_weights` (``W_rec`` (K, G*H), or (E, K, G*H)
    for E stacked models with leading axes (E, N)). The same values as the step loop of
    :func:`~lstm_lessons.pytorch.cells.lstm_cell`; its gradient is written out (see the
    module's docstring), not recorded, so it has no second derivative.
    """
    return _Sequence.apply(cell, ax, h0, c0, W_rec, p_o, v)
