# JMT (Waligora et al., ABAW-6 2024) on Aff-Wild2 valence/arousal: the joint
# stream, three transformer encoders, six cross-attentions, the 6-token
# self-attention aggregation (11.17M parameters, without the official code's
# unused 40.9M encoder) on the frozen TSAV encoders (R(2+1)D-18 max-pooled
# over space, ResNet-18 on the log-mel). From cached features:
# configs/jmt_affwild2_cached.py.
_base_ = ['./jca_affwild2.py']
model = dict(
    fusion_head=dict(
        _delete_=True,
        type='JMTHead',
        in_channels=512,
        num_heads=1,
        num_layers=1,
        aggregation='self_attn',  # 'fc' = the code's default config
        dropout=0.6))

# JMT's code: SGD (Nesterov, momentum 0.9), lr 1e-4, weight decay 1e-4,
# batch 64, 20 epochs, StepLR(40, 0.1) (so no decay within 20 epochs).
max_epochs = 20
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(
    optimizer=dict(
        _delete_=True,
        type='SGD',
        lr=1e-4,
        momentum=0.9,
        nesterov=True,
        weight_decay=1e-4,
        fused=True))  # see configs/jca_affwild2.py
param_scheduler = [dict(type='StepLR', step_size=40, gamma=0.1, by_epoch=True)]
