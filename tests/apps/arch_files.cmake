# Writes the architecture files a run_cli.cmake case with SETUP arch_files reads: a chain search's
# folder (${WORK}/search: incumbent.json and the config.json with its space options) and a bare
# multibranch point (${WORK}/mb.json) and a bare zoph-le point (${WORK}/zl.json).
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/search")
file(WRITE "${WORK}/search/config.json" [=[{"space": "chain", "strategy": "random",
 "space_options": {"max_layers": 5, "filters": [8, 16, 32], "stem_channels": 8}}
]=])
file(WRITE "${WORK}/search/incumbent.json" [=[{"trial": 3, "score": 71.5, "space": "chain",
 "arch": {"layers": [{"type": "conv", "kernel": 3, "filters": 16, "stride": 2},
                     {"type": "max_pool", "kernel": 3, "stride": 1},
                     {"type": "sep_conv", "kernel": 3, "filters": 32, "stride": 1}]},
 "hp": {"batch_size": 64, "lr": 0.02, "momentum": 0.9, "weight_decay": 0.0003},
 "text": "conv3x3x16/2 max_pool3x3 sep_conv3x3x32", "train_command": ""}
]=])
file(WRITE "${WORK}/mb.json" [=[{"layers": [{"op": "conv_3x3", "skips": []},
 {"op": "sep_conv_5x5", "skips": [1]}, {"op": "max_pool_3x3", "skips": [0, 1]},
 {"op": "avg_pool_3x3", "skips": [1, 0, 1]}]}
]=])
file(WRITE "${WORK}/zl.json" [=[{"layers": [
 {"height": 3, "width": 5, "filters": 36, "stride": 1, "skips": []},
 {"height": 1, "width": 7, "filters": 24, "stride": 1, "skips": [1]},
 {"height": 5, "width": 3, "filters": 64, "stride": 1, "skips": [0, 1]}]}
]=])
