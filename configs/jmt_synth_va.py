# Stage 3 of the synthetic VA recipe with JMT's fusion (see jca_synth_va.py):
# the joint stream, three transformer encoders, six cross-attentions and the
# 6-token self-attention aggregation, on the cached 128-d features.
_base_ = ['./jca_synth_va.py']

model = dict(
    fusion_head=dict(
        _delete_=True,
        type='JMTHead',
        in_channels=128,
        aggregation='self_attn',
        dropout=0.3))

# JMT's own lr (1e-4; its code uses SGD): at JCA's 1e-3 the post-LN
# transformers diverged after ~13 epochs on the synthetic cache (training
# CCC loss 0.63 -> 1.9, validation mean CCC 0.77 -> 0.01).
optim_wrapper = dict(optimizer=dict(lr=1e-4))
