// The ENAS architecture representations: micro cells (MicroArch) and macro networks (MacroArch).
#pragma once

#include "fusenas/nas/enas/macro_arch.h"
#include "fusenas/nas/enas/micro_arch.h"
