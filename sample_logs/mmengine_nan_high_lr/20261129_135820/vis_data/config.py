default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=1000000, type='CheckpointHook'),
    logger=dict(interval=1, log_metric_by_epoch=False, type='LoggerHook'))
default_scope = None
log_processor = dict(by_epoch=False)
max_epochs = 5
model = dict(type='ToyRegressor')
optim_wrapper = dict(
    optimizer=dict(lr=1.0, momentum=0.9, type='SGD'), type='OptimWrapper')
param_scheduler = [
    dict(
        begin=0,
        by_epoch=True,
        convert_to_iter_based=True,
        end=1,
        start_factor=0.01,
        type='LinearLR'),
]
randomness = dict(seed=0)
train_cfg = dict(max_epochs=5, type='TrainLoop')
train_dataloader = dict(
    batch_size=8,
    collate_fn=dict(type='default_collate'),
    dataset=dict(n=320, task='regression', type='ToyDS'),
    sampler=dict(shuffle=True, type='DefaultSampler'))
visualizer = dict(
    type='Visualizer',
    vis_backends=[
        dict(type='LocalVisBackend'),
        dict(type='TensorboardVisBackend'),
    ])
work_dir = 'mmengine_nan_high_lr'
