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
