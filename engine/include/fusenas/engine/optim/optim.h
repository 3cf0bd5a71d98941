// Umbrella header for the optim layer: optimizers, the cosine schedule and gradient clipping.
#pragma once

#include "fusenas/engine/optim/adam.h"
#include "fusenas/engine/optim/asgd.h"
#include "fusenas/engine/optim/clip_grad.h"
#include "fusenas/engine/optim/lr_scheduler.h"
#include "fusenas/engine/optim/multi_tensor.h"
#include "fusenas/engine/optim/optimizer.h"
#include "fusenas/engine/optim/sgd.h"
