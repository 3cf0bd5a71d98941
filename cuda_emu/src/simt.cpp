// The SIMT interpreter: blocks run one after another; a block's threads are fibers scheduled round
// robin, each running until it exits or waits at a barrier or a warp shuffle. Blocks of a kernel
// whose first block never synchronised run as plain calls, which keeps elementwise kernels fast.
#include "fusenas_emu/simt.h"

#include <sys/mman.h>

#include <boost/context/fiber.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "fusenas_emu/stream.h"
#include "runtime_state.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define FUSENAS_EMU_ASAN 1
#endif

namespace fusenas::emu {
namespace {

namespace bctx = boost::context;

[[noreturn]] void kernel_fault(const char* kernel, const char* what) {
  std::fprintf(stderr, "cuda_emu: kernel %s: %s\n", kernel, what);
  std::abort();
}

// ASan must be told about every stack switch, or it reports false stack overflows and errors.
void note_switch_start(void** fake_stack, const void* bottom, size_t size) {
#ifdef FUSENAS_EMU_ASAN
  __sanitizer_start_switch_fiber(fake_stack, bottom, size);
#else
  (void)fake_stack, (void)bottom, (void)size;
#endif
}
void note_switch_finish(void* fake_stack, const void** old_bottom, size_t* old_size) {
#ifdef FUSENAS_EMU_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, old_bottom, old_size);
#else
  (void)fake_stack, (void)old_bottom, (void)old_size;
#endif
}

// Fiber stacks, mapped once and reused by every block: a launch never maps memory.
class StackPool {
 public:
  static constexpr size_t kStackBytes = 256 * 1024;

  bctx::stack_context take() {
    if (free_.empty()) {
      void* base = mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (base == MAP_FAILED) kernel_fault("(any)", "cannot map a fiber stack");
      bctx::stack_context sc;
      sc.size = kStackBytes;
      sc.sp = static_cast<char*>(base) + kStackBytes;
      return sc;
    }
    bctx::stack_context sc = free_.back();
    free_.pop_back();
    return sc;
  }
  void give(const bctx::stack_context& sc) { free_.push_back(sc); }

 private:
  std::vector<bctx::stack_context> free_;
};

StackPool& stack_pool() {
  static auto* pool = new StackPool();
  return *pool;
}

// Records where each fiber's stack lies, for the ASan annotations.
struct PooledStack {
  const void** bottom;
  size_t* size;
  bctx::stack_context allocate() {
    bctx::stack_context sc = stack_pool().take();
    *bottom = static_cast<char*>(sc.sp) - sc.size;
    *size = sc.size;
    return sc;
  }
  void deallocate(bctx::stack_context& sc) noexcept { stack_pool().give(sc); }
};

enum class ThreadState { Runnable, AtBarrier, AtShuffle, Done };

struct ThreadSlot {
  uint3 index{};
  int lane = 0;
  ThreadState state = ThreadState::Runnable;
  bctx::fiber fiber;
  const void* stack_bottom = nullptr;
  size_t stack_size = 0;
  void* fake_stack = nullptr;
  // The pending shuffle.
  unsigned mask = 0;
  uint64_t offered = 0, received = 0;
  ShuffleKind kind = ShuffleKind::Xor;
  int arg = 0, width = 32;
};

// The block being run and the thread being run in it.
struct BlockRun {
  const char* kernel = "";
  bool fibers = false;
  bool synchronised = false;  // a barrier or shuffle was reached
  std::vector<ThreadSlot> threads;
  int current = -1;
  bctx::fiber scheduler;
  const void* scheduler_bottom = nullptr;
  size_t scheduler_size = 0;
  void* scheduler_fake_stack = nullptr;
};

uint3 g_thread{}, g_block{};
dim3 g_block_dim, g_grid_dim;
BlockRun* g_run = nullptr;

BlockRun& fiber_run(const char* primitive) {
  if (g_run == nullptr) kernel_fault("(none)", "a synchronising primitive outside any kernel");
  g_run->synchronised = true;
  if (!g_run->fibers) {
    std::fprintf(stderr, "cuda_emu: %s reached in a block run without fibers\n", primitive);
    kernel_fault(g_run->kernel,
                 "only some blocks synchronise; the interpreter decided from the first block");
  }
  return *g_run;
}

void yield_to_scheduler(BlockRun& run) {
  ThreadSlot& self = run.threads[run.current];
  note_switch_start(&self.fake_stack, run.scheduler_bottom, run.scheduler_size);
  run.scheduler = std::move(run.scheduler).resume();
  note_switch_finish(self.fake_stack, nullptr, nullptr);
}

uint3 thread_of(int linear, const dim3& block) {
  return uint3{static_cast<unsigned>(linear % block.x),
               static_cast<unsigned>((linear / block.x) % block.y),
               static_cast<unsigned>(linear / (block.x * block.y))};
}

// Lane that `slot` reads from, or -1 when the shuffle returns the caller's own value.
int source_lane(const ThreadSlot& slot) {
  const int base = slot.lane / slot.width * slot.width, in_group = slot.lane - base;
  int src = in_group;
  switch (slot.kind) {
    case ShuffleKind::Xor:
      src = in_group ^ slot.arg;
      break;
    case ShuffleKind::Down:
      src = in_group + slot.arg;
      break;
    case ShuffleKind::Up:
      src = in_group - slot.arg;
      break;
    case ShuffleKind::Index:
      src = slot.arg % slot.width;
      break;
  }
  if (src < 0 || src >= slot.width) return -1;
  return base + src;
}

// Completes the pending shuffles, warp by warp; called when no thread is runnable, so a lane the
// mask names that is not at the shuffle never will be (undefined on a GPU: a fault here).
// Returns whether any completed.
bool release_shuffles(BlockRun& run, int warps) {
  bool released = false;
  for (int w = 0; w < warps; ++w) {
    const int first = w * 32, last = std::min<int>(first + 32, int(run.threads.size()));
    int waiting = -1;
    for (int t = first; t < last; ++t) {
      if (run.threads[t].state == ThreadState::AtShuffle) waiting = t;
    }
    if (waiting < 0) continue;
    const unsigned mask = run.threads[waiting].mask;
    for (int t = first; t < last; ++t) {
      ThreadSlot& slot = run.threads[t];
      if (slot.state != ThreadState::AtShuffle) continue;
      if (slot.mask != mask)
        kernel_fault(run.kernel, "lanes of one warp shuffle with different masks");
    }
    for (int lane = 0; lane < 32; ++lane) {
      if (!(mask >> lane & 1u)) continue;
      const int t = first + lane;
      if (t >= last || run.threads[t].state != ThreadState::AtShuffle) {
        kernel_fault(run.kernel,
                     "a warp shuffle names a lane that has exited, is at a barrier or does not "
                     "exist (undefined on a GPU)");
      }
    }
    for (int t = first; t < last; ++t) {
      ThreadSlot& slot = run.threads[t];
      if (slot.state != ThreadState::AtShuffle) continue;
      const int src = source_lane(slot);
      slot.received = src < 0 ? slot.offered : run.threads[first + src].offered;
      if (src >= 0 && !(mask >> src & 1u)) {
        kernel_fault(run.kernel, "a warp shuffle reads a lane outside its mask");
      }
    }
    for (int t = first; t < last; ++t) {
      if (run.threads[t].state == ThreadState::AtShuffle)
        run.threads[t].state = ThreadState::Runnable;
    }
    released = true;
  }
  return released;
}

void run_block_with_fibers(BlockRun& run, const std::function<void()>& body, int threads) {
  run.threads.clear();
  run.threads.resize(threads);
  for (int t = 0; t < threads; ++t) {
    ThreadSlot& slot = run.threads[t];
    slot.index = thread_of(t, g_block_dim);
    slot.lane = t % 32;
    slot.fiber =
        bctx::fiber(std::allocator_arg, PooledStack{&slot.stack_bottom, &slot.stack_size},
                    [&run, &body, t](bctx::fiber&& scheduler) {
                      note_switch_finish(nullptr, &run.scheduler_bottom, &run.scheduler_size);
                      run.scheduler = std::move(scheduler);
                      body();
                      run.threads[t].state = ThreadState::Done;
                      note_switch_start(nullptr, run.scheduler_bottom, run.scheduler_size);
                      return std::move(run.scheduler);
                    });
  }
  const int warps = (threads + 31) / 32;
  int done = 0;
  while (done < threads) {
    for (int t = 0; t < threads; ++t) {
      ThreadSlot& slot = run.threads[t];
      if (slot.state != ThreadState::Runnable) continue;
      run.current = t;
      g_thread = slot.index;
      note_switch_start(&run.scheduler_fake_stack, slot.stack_bottom, slot.stack_size);
      slot.fiber = std::move(slot.fiber).resume();
      note_switch_finish(run.scheduler_fake_stack, nullptr, nullptr);
      if (slot.state == ThreadState::Done) ++done;
    }
    if (done == threads) break;
    // After a full pass no thread is runnable; any shuffle either completes or faults, so when
    // none completed every live thread waits at the barrier.
    if (release_shuffles(run, warps)) continue;
    for (ThreadSlot& slot : run.threads) {
      if (slot.state == ThreadState::AtBarrier) slot.state = ThreadState::Runnable;
    }
  }
  run.current = -1;
}

void run_block_plain(const std::function<void()>& body, int threads) {
  for (int t = 0; t < threads; ++t) {
    g_thread = thread_of(t, g_block_dim);
    body();
  }
}

void run_grid(const LaunchConfig& config, const char* kernel, const std::function<void()>& body) {
  BlockRun run;
  run.kernel = kernel;
  BlockRun* outer = g_run;
  g_run = &run;
  g_grid_dim = config.grid;
  g_block_dim = config.block;
  const int threads = int(config.block.x * config.block.y * config.block.z);
  bool first = true;
  for (unsigned z = 0; z < config.grid.z; ++z) {
    for (unsigned y = 0; y < config.grid.y; ++y) {
      for (unsigned x = 0; x < config.grid.x; ++x) {
        g_block = uint3{x, y, z};
        if (first || run.synchronised) {
          run.fibers = true;
          run_block_with_fibers(run, body, threads);
        } else {
          run.fibers = false;
          run_block_plain(body, threads);
        }
        first = false;
      }
    }
  }
  g_run = outer;
}

const char* config_problem(const LaunchConfig& c) {
  const uint64_t threads = uint64_t(c.block.x) * c.block.y * c.block.z;
  if (threads == 0 || c.grid.x == 0 || c.grid.y == 0 || c.grid.z == 0)
    return "an empty grid or block";
  if (threads > 1024 || c.block.x > 1024 || c.block.y > 1024 || c.block.z > 64) {
    return "a block larger than 1024 threads (or over a per-dimension limit)";
  }
  if (c.grid.x > 0x7fffffffu || c.grid.y > 65535 || c.grid.z > 65535)
    return "a grid over the limits";
  if (c.shared_bytes > 48 * 1024) return "over 48 KiB of dynamic shared memory without opting in";
  return nullptr;
}

}  // namespace

const uint3& thread_index() {
  return g_thread;
}
const uint3& block_index() {
  return g_block;
}
const dim3& block_dim() {
  return g_block_dim;
}
const dim3& grid_dim() {
  return g_grid_dim;
}

void sync_block() {
  BlockRun& run = fiber_run("__syncthreads");
  run.threads[run.current].state = ThreadState::AtBarrier;
  yield_to_scheduler(run);
}

uint64_t warp_shuffle(unsigned mask, uint64_t bits, ShuffleKind kind, int arg, int width) {
  BlockRun& run = fiber_run("a warp shuffle");
  ThreadSlot& self = run.threads[run.current];
  if (width <= 0 || width > 32 || (width & (width - 1)) != 0) {
    kernel_fault(run.kernel, "a shuffle width that is not a power of two up to 32");
  }
  if (!(mask >> self.lane & 1u)) kernel_fault(run.kernel, "a lane shuffles outside its own mask");
  self.mask = mask;
  self.offered = bits;
  self.kind = kind;
  self.arg = arg;
  self.width = width;
  self.state = ThreadState::AtShuffle;
  yield_to_scheduler(run);
  return self.received;
}

void submit(const LaunchConfig& config, const char* kernel, std::function<void()> thread_body) {
  if (const char* problem = config_problem(config)) {
    std::fprintf(stderr, "cuda_emu: launch of %s refused: %s\n", kernel, problem);
    set_last_error(cudaErrorInvalidConfiguration);
    return;
  }
  enqueue(config.stream,
          [config, kernel, body = std::move(thread_body)]() { run_grid(config, kernel, body); });
}

}  // namespace fusenas::emu
