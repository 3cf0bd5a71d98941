// Lower-bound memory estimates of DARTS-layout networks and the check against free memory.
#include "fusenas/nas/run/memory_check.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "fusenas/engine/error.h"

namespace fusenas::nas {

double cell_stack_lower_bound_bytes(int64_t batch, int64_t image_size, int64_t channels,
                                    int64_t cells, int64_t states_per_cell) {
  double bytes = 0;
  double c = static_cast<double>(channels), size = static_cast<double>(image_size);
  for (int64_t i = 0; i < cells; ++i) {
    if (i == cells / 3 || i == 2 * cells / 3) {
      c *= 2;
      size = static_cast<double>((static_cast<int64_t>(size) + 1) / 2);
    }
    bytes += static_cast<double>(batch) * c * size * size * static_cast<double>(states_per_cell) *
             sizeof(float);
  }
  return bytes;
}

double available_memory_bytes(Device device) {
  if (!device.is_cpu()) return 0;
  std::ifstream in("/proc/meminfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string key;
    double kib = 0;
    if (fields >> key >> kib && key == "MemAvailable:") return kib * 1024;
  }
  return static_cast<double>(::sysconf(_SC_PHYS_PAGES)) *
         static_cast<double>(::sysconf(_SC_PAGE_SIZE));
}

void check_fits_in_memory(double lower_bound_bytes, Device device, const std::string& what) {
  const double available = available_memory_bytes(device);
  FUSENAS_CHECK(available <= 0 || lower_bound_bytes <= available,
                "{} needs at least {:.1f} GB for the activations of one step (a lower bound, "
                "estimated before allocating), but only {:.1f} GB of memory is available: use "
                "fewer layers, channels or a smaller batch",
                what, lower_bound_bytes / 1e9, available / 1e9);
}

}  // namespace fusenas::nas
