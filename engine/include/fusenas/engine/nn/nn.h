// Umbrella header for the nn layer: Module and every module type.
#pragma once

#include "fusenas/engine/nn/activation.h"
#include "fusenas/engine/nn/batch_norm.h"
#include "fusenas/engine/nn/conv2d.h"
#include "fusenas/engine/nn/embedding.h"
#include "fusenas/engine/nn/init.h"
#include "fusenas/engine/nn/linear.h"
#include "fusenas/engine/nn/lstm_cell.h"
#include "fusenas/engine/nn/module.h"
#include "fusenas/engine/nn/sequential.h"
