# JCA (Praveen et al., IEEE T-BIOM 2023): the paper's joint cross-attention
# fusion on TSAV's frozen encoders (Kuhnke et al., ABAW 2020): R(2+1)D-18 on
# 8-frame 112x112 face sub-clips (layer-4 map max-pooled to 512-d, as JMT)
# and ResNet-18 on the 64-bin log-mel. The weights are TSAV's Aff-Wild2
# checkpoint, which mmemo never downloads: put TSAV_Sub4_544k.pth.tar (from
# github.com/kuhnkeF/ABAW2020TNT) in checkpoints/ (or point `tsav` at it).
tsav = 'checkpoints/TSAV_Sub4_544k.pth.tar'
model = dict(
    type='AVRegressor',
    visual_encoder=dict(
        type='R2Plus1D18Encoder',
        pool='max',
        init_cfg=dict(type='Pretrained', checkpoint=tsav)),
    audio_encoder=dict(
        type='AudioResNet18Encoder',
        init_cfg=dict(type='Pretrained', checkpoint=tsav)),
    freeze_encoders=True,
    # 199k parameters with one regressor; both attended streams are
    # concatenated (the paper; the code concatenates the raw visual stream)
    fusion_head=dict(
        type='JCAHead',
        seq_len=16,
        audio_channels=512,
        video_channels=512,
        k=32,
        dropout=0.6),
    data_preprocessor=dict(
        type='mmaction.MultiModalDataPreprocessor',
        preprocessors=dict(
            video=dict(
                type='mmaction.ActionDataPreprocessor',
                # JCA's Kinetics statistics (x255)
                mean=[110.16, 100.73, 95.88],
                std=[58.14, 56.36, 55.34],
                format_shape='NCTHW'),
            # the log-mel is normalised in the pipeline (-14.8 / 19.895)
            audio=dict(type='mmaction.ActionDataPreprocessor'))))
