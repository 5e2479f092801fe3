default_hooks = dict(
    checkpoint=dict(interval=1, type='CheckpointHook'),
    logger=dict(interval=2, type='LoggerHook'))
default_scope = None
max_epochs = 8
model = dict(type='ToyModel')
optim_wrapper = dict(
    optimizer=dict(lr=0.02, momentum=0.9, type='SGD', weight_decay=0.0001),
    type='OptimWrapper')
param_scheduler = [
    dict(
        begin=0,
        by_epoch=True,
        end=8,
        gamma=0.1,
        milestones=[
            3,
            5,
            7,
        ],
        type='MultiStepLR'),
]
randomness = dict(seed=0)
resume = True
train_cfg = dict(by_epoch=True, max_epochs=8)
train_dataloader = dict(
    batch_size=16,
    collate_fn=dict(type='default_collate'),
    dataset=dict(n=160, type='ToyDS'),
    sampler=dict(shuffle=True, type='DefaultSampler'))
visualizer = dict(
    type='Visualizer',
    vis_backends=[
        dict(type='LocalVisBackend'),
        dict(type='TensorboardVisBackend'),
    ])
work_dir = 'mmengine_resume_new_milestones'
