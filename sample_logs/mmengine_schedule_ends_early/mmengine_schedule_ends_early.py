default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=1000000, type='CheckpointHook'),
    logger=dict(interval=2, log_metric_by_epoch=False, type='LoggerHook'))
default_scope = None
log_processor = dict(by_epoch=False)
model = dict(type='ToyModel')
optim_wrapper = dict(
    optimizer=dict(lr=0.001, type='AdamW', weight_decay=0),
    type='OptimWrapper')
param_scheduler = [
    dict(
        begin=0,
        by_epoch=False,
        end=180,
        eta_min=1e-06,
        type='CosineAnnealingLR'),
]
randomness = dict(seed=0)
train_cfg = dict(max_iters=300, type='IterBasedTrainLoop')
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
work_dir = 'mmengine_schedule_ends_early'
