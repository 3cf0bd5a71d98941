// The timing aid's spin kernel, on the host: the stream's work sleeps instead of spinning.
#include <chrono>
#include <thread>

#include "fusenas/kernels/timing.h"
#include "fusenas_emu/stream.h"

namespace fusenas::kernels {

cudaError_t spin(int64_t nanoseconds, cudaStream_t stream) {
  if (nanoseconds <= 0) return cudaSuccess;
  fusenas::emu::enqueue(stream, [nanoseconds] {
    std::this_thread::sleep_for(std::chrono::nanoseconds(nanoseconds));
  });
  return cudaSuccess;
}

}  // namespace fusenas::kernels
