default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=1000000, type='CheckpointHook'),
    logger=dict(interval=5, log_metric_by_epoch=False, type='LoggerHook'))
default_scope = None
log_processor = dict(by_epoch=False)
max_iters = 480
model = dict(type='ToyModel')
optim_wrapper = dict(
    optimizer=dict(lr=0.001, type='AdamW', weight_decay=0),
    type='OptimWrapper')
param_scheduler = [
    dict(
        begin=0, by_epoch=False, end=200, start_factor=0.001, type='LinearLR'),
    dict(
        begin=200,
        by_epoch=False,
        end=480,
        eta_min=0.0,
        type='CosineAnnealingLR'),
]
randomness = dict(seed=0)
train_cfg = dict(max_iters=480, type='IterBasedTrainLoop')
train_dataloader = dict(
    batch_size=8,
    collate_fn=dict(type='default_collate'),
    dataset=dict(n=320, type='ToyDS'),
    sampler=dict(shuffle=True, type='DefaultSampler'))
visualizer = dict(
    type='Visualizer',
    vis_backends=[
        dict(type='LocalVisBackend'),
        dict(type='TensorboardVisBackend'),
    ])
warmup_iters = 200
work_dir = 'mmengine_long_warmup'
