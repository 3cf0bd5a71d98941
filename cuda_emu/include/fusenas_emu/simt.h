// The emulator's SIMT interpreter: runs a translated kernel's grid on the host, one block at a
// time, with each CUDA thread a fiber that yields at barriers and warp shuffles.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace fusenas::emu {

// The <<<grid, block, shared bytes, stream>>> of a launch.
struct LaunchConfig {
  dim3 grid;
  dim3 block;
  size_t shared_bytes = 0;
  cudaStream_t stream = nullptr;
  LaunchConfig(dim3 g, dim3 b, size_t shared = 0, cudaStream_t s = nullptr)
      : grid(g), block(b), shared_bytes(shared), stream(s) {}
};

// Built-in variables of the thread that is running.
const uint3& thread_index();
const uint3& block_index();
const dim3& block_dim();
const dim3& grid_dim();

// __syncthreads(): waits for every thread of the block that has not exited.
void sync_block();

enum class ShuffleKind { Xor, Down, Up, Index };

// One warp shuffle of up to 8 bytes: returns the bits offered by the source lane.
uint64_t warp_shuffle(unsigned mask, uint64_t bits, ShuffleKind kind, int arg, int width);

// Checks the configuration (sets the error cudaGetLastError returns) and runs or records the grid.
void submit(const LaunchConfig& config, const char* kernel, std::function<void()> thread_body);

// What a translated `kernel<<<config>>>(args...)` becomes: the arguments are converted once, as
// CUDA copies kernel parameters at launch, and every thread receives its own copy.
template <typename Body, typename... Args>
void launch(const LaunchConfig& config, const char* kernel, Body body, Args&&... args) {
  submit(config, kernel,
         [body, params = std::make_tuple(std::decay_t<Args>(std::forward<Args>(args))...)]() {
           std::apply(body, params);
         });
}

}  // namespace fusenas::emu
