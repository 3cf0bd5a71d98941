// The GPU op suite of `bench`: DARTS-shape kernels validated against the CPU, timed with CUDA
// events on rotating inputs, rated against measured bandwidth and SGEMM ceilings, beside PyTorch.
#include "gpu_ops.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "cases/compare.h"
#include "fusenas/engine/cuda.h"
#include "fusenas/engine/device.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/engine/ops.h"
#include "harness.h"
#include "op_cases.h"

#ifdef FUSENAS_BENCH_CUDA
#include <cublas_v2.h>
#include <cuda_runtime.h>
#endif

namespace fusenas::bench {

#ifdef FUSENAS_BENCH_CUDA
namespace {

// ---- Ceilings ------------------------------------------------------------------------------

struct Ceilings {
  std::string gpu;
  int64_t l2_bytes = 0;
  double copy_gbps = 0;  // device-to-device copy, bytes read + written
  int sgemm_n = 0;
  double sgemm_tflops = 0;  // cuBLAS SGEMM n^3, FP32 (no TF32)
};

#define BENCH_CUDA_CHECK(expr)                                                    \
  do {                                                                            \
    const cudaError_t bench_status = (expr);                                      \
    if (bench_status != cudaSuccess)                                              \
      throw std::runtime_error(                                                   \
          fmt::format("{} failed: {}", #expr, cudaGetErrorString(bench_status))); \
  } while (0)
#define BENCH_CUBLAS_CHECK(expr)                                                     \
  do {                                                                               \
    const cublasStatus_t bench_status = (expr);                                      \
    if (bench_status != CUBLAS_STATUS_SUCCESS)                                       \
      throw std::runtime_error(                                                      \
          fmt::format("{} failed: {}", #expr, cublasGetStatusString(bench_status))); \
  } while (0)

// Median milliseconds of `reps` calls of `fn` on `stream`, each between its own pair of events.
template <typename Fn>
double median_ms(cudaStream_t stream, int warmup, int reps, Fn&& fn) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<cudaEvent_t> events(2 * reps);
  for (auto& e : events) BENCH_CUDA_CHECK(cudaEventCreate(&e));
  for (int i = 0; i < reps; ++i) {
    BENCH_CUDA_CHECK(cudaEventRecord(events[2 * i], stream));
    fn();
    BENCH_CUDA_CHECK(cudaEventRecord(events[2 * i + 1], stream));
  }
  BENCH_CUDA_CHECK(cudaStreamSynchronize(stream));
  std::vector<double> ms(reps);
  for (int i = 0; i < reps; ++i) {
    float t = 0;
    BENCH_CUDA_CHECK(cudaEventElapsedTime(&t, events[2 * i], events[2 * i + 1]));
    ms[i] = t;
  }
  for (auto& e : events) cudaEventDestroy(e);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// A device buffer freed on scope exit.
struct DeviceBuffer {
  void* ptr = nullptr;
  explicit DeviceBuffer(size_t bytes) { BENCH_CUDA_CHECK(cudaMalloc(&ptr, bytes)); }
  ~DeviceBuffer() { cudaFree(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

// --quick (a smoke test, also of the emulator build) measures on 64 MiB and 1024^3 instead.
Ceilings measure_ceilings(bool quick) {
  Ceilings c;
  const cuda::DeviceProperties props = cuda::device_properties(0);
  c.gpu = fmt::format("{} (sm_{}{}, {} SMs, {:.0f} GiB)", props.name, props.major, props.minor,
                      props.multiprocessors, props.total_memory / double(1 << 30));
  c.l2_bytes = props.l2_cache_bytes;
  BENCH_CUDA_CHECK(cudaSetDevice(0));
  cudaStream_t stream = nullptr;
  BENCH_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  {
    // 1 GiB each way: far beyond L2, long enough that launch latency is noise.
    const size_t bytes = size_t(1) << (quick ? 26 : 30);
    DeviceBuffer src(bytes), dst(bytes);
    BENCH_CUDA_CHECK(cudaMemsetAsync(src.ptr, 1, bytes, stream));
    const double ms = median_ms(stream, 2, 10, [&] {
      BENCH_CUDA_CHECK(cudaMemcpyAsync(dst.ptr, src.ptr, bytes, cudaMemcpyDeviceToDevice, stream));
    });
    c.copy_gbps = 2.0 * bytes / (ms * 1e-3) / 1e9;
  }
  {
    const int n = quick ? 1024 : 8192;
    c.sgemm_n = n;
    const size_t elems = size_t(n) * n;
    DeviceBuffer a(elems * sizeof(float)), b(elems * sizeof(float)), out(elems * sizeof(float));
    // Random operands: a matrix of zeros runs measurably faster than real data.
    std::vector<float> host(elems);
    Generator gen(7);
    for (auto& v : host) v = gen.next_float() * 2 - 1;
    BENCH_CUDA_CHECK(cudaMemcpy(a.ptr, host.data(), elems * sizeof(float), cudaMemcpyHostToDevice));
    BENCH_CUDA_CHECK(cudaMemcpy(b.ptr, host.data(), elems * sizeof(float), cudaMemcpyHostToDevice));
    cublasHandle_t handle = nullptr;
    BENCH_CUBLAS_CHECK(cublasCreate(&handle));
    try {
      BENCH_CUBLAS_CHECK(cublasSetStream(handle, stream));
      // Plain FP32: the default math mode never uses TF32 tensor cores for SGEMM.
      BENCH_CUBLAS_CHECK(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH));
      const float one = 1, zero = 0;
      const double ms = median_ms(stream, 1, 5, [&] {
        BENCH_CUBLAS_CHECK(cublasSgemm(
            handle, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, static_cast<const float*>(a.ptr), n,
            static_cast<const float*>(b.ptr), n, &zero, static_cast<float*>(out.ptr), n));
      });
      c.sgemm_tflops = 2.0 * n * double(n) * n / (ms * 1e-3) / 1e12;
    } catch (...) {
      cublasDestroy(handle);
      throw;
    }
    cublasDestroy(handle);
  }
  BENCH_CUDA_CHECK(cudaStreamDestroy(stream));
  return c;
}

// ---- Validation ----------------------------------------------------------------------------

// Worst relative error of the CUDA run against the CPU run over every output and gradient, by the
// gpu tests' own comparison (poisoned CUDA allocations, so an element never written fails).
double validate(const TimedOp& op) {
  return cases::worst_error(cases::compare_cuda_with_cpu(op.c.make_inputs(DType::Float32), op.c.run,
                                                         op.c.grad_inputs(), op.backward));
}

// ---- Timing --------------------------------------------------------------------------------

struct Measurement {
  double median_ms = 0;
  double launches = 0;  // engine launches per call
  double model_us = 0;  // modelled H100 microseconds per call, eager (a model, not measured)
  int sets = 0;         // input copies rotated through
  double spin_us = 0;   // device busy-wait queued ahead of each call
};

// Times one call per iteration between CUDA events on the engine stream. Each call reads the next
// of `sets` copies of its inputs (together more than twice the L2), so the cache does not flatter
// the result, and a busy-wait queued first lets the host run ahead, so the events see device time.
Measurement time_case(const TimedOp& op, int64_t l2_bytes, int warmup, int iterations) {
  const std::vector<Tensor> base = op.c.make_inputs(DType::Float32);
  const std::vector<bool> grad = op.c.grad_inputs();
  double set_bytes = 0;
  for (const auto& t : base) {
    if (t.defined()) set_bytes += double(t.numel()) * dtype_size(t.dtype());
  }
  const Tensor gy_base = output_gradient(op, base, Device::cpu());
  if (gy_base.defined()) set_bytes += double(gy_base.numel()) * 4;
  const int sets =
      static_cast<int>(std::clamp(std::ceil(2.0 * double(l2_bytes) / set_bytes), 1.0, 64.0));
  std::vector<std::vector<Tensor>> inputs(sets);
  std::vector<Tensor> gys(sets);
  for (int s = 0; s < sets; ++s) {
    for (size_t i = 0; i < base.size(); ++i) {
      Tensor t = base[i].defined() ? base[i].to(Device::cuda()) : Tensor();
      if (t.defined() && op.backward && grad[i]) t.set_requires_grad(true);
      inputs[s].push_back(t);
    }
    if (gy_base.defined()) gys[s] = gy_base.to(Device::cuda());
  }
  auto call = [&](int s) { op.call(inputs[s], gys[s]); };

  // Warm-up (algorithm choice, allocator cache) and the host's time to queue one call: the median
  // over the warm-ups, as the first call also picks algorithms and fills the cache.
  using clock = std::chrono::steady_clock;
  std::vector<double> host_us;
  for (int i = 0; i < std::max(warmup, 3); ++i) {
    cuda::synchronize();
    const auto t0 = clock::now();
    call(i % sets);
    host_us.push_back(std::chrono::duration<double, std::micro>(clock::now() - t0).count());
  }
  cuda::synchronize();
  std::sort(host_us.begin(), host_us.end());
  Measurement m;
  m.sets = sets;
  m.spin_us = std::clamp(2 * host_us[host_us.size() / 2] + 20, 20.0, 20000.0);

  std::vector<std::unique_ptr<cuda::Event>> start, stop;
  for (int i = 0; i < iterations; ++i) {
    start.push_back(std::make_unique<cuda::Event>());
    stop.push_back(std::make_unique<cuda::Event>());
  }
  cuda::reset_launch_count();
  int64_t launches = 0;
  double model_ms = 0;
  for (int i = 0; i < iterations; ++i) {
    cuda::busy_wait(m.spin_us);
    start[i]->record();
    const int64_t before = cuda::launch_count();
    const cuda::LaunchTotals model_before = cuda::launch_totals();
    call(i % sets);
    launches += cuda::launch_count() - before;
    model_ms += cuda::launch_totals().eager_ms() - model_before.eager_ms();
    stop[i]->record();
  }
  std::vector<double> ms;
  for (int i = 0; i < iterations; ++i) ms.push_back(cuda::Event::elapsed_ms(*start[i], *stop[i]));
  std::sort(ms.begin(), ms.end());
  m.median_ms = ms[ms.size() / 2];
  m.launches = double(launches) / iterations;
  m.model_us = 1e3 * model_ms / iterations;
  return m;
}

std::string fixed(double v, int digits) {
  return fmt::format("{:.{}f}", v, digits);
}

}  // namespace

int run_gpu_op_suite(const GpuSuiteOptions& options) {
  FUSENAS_CHECK(cuda_available(), "--device cuda: no CUDA device is available");
  cuda::set_allow_tf32(false);
  const std::vector<TimedOp> cases = timed_ops(options.quick, options.filter);
  const Ceilings limits = measure_ceilings(options.quick);
  fmt::print("FuseNAS bench: GPU op suite on {}, {} cases\n", limits.gpu, cases.size());
  fmt::print(
      "ceilings: device-to-device copy {:.0f} GB/s (read + write), cuBLAS SGEMM {}^3 "
      "{:.1f} TFLOP/s (FP32, no TF32); L2 {:.0f} MB\n",
      limits.copy_gbps, limits.sgemm_n, limits.sgemm_tflops, limits.l2_bytes / 1e6);
  fmt::print(
      "timing: CUDA events around one call, median of {} after {} warm-ups; a device busy-wait "
      "ahead of each call keeps the host out of the figure; inputs rotate through copies "
      "totalling > 2x L2.\n",
      options.iterations, options.warmup);
  fmt::print(
      "model: bytes = each input, output and gradient read or written once (fp32); FLOPs = 2 x "
      "MACs (fwd+bwd = 3x fwd), convs only. Checked against the CPU first (max rel err <= {:g}).\n",
      options.tolerance);

  struct Row {
    double err = 0;
    bool ok = false;
    std::string error;  // an exception's message
    Measurement m;
  };
  std::vector<Row> rows(cases.size());
  int failures = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const TimedOp& c = cases[i];
    Row& r = rows[i];
    try {
      r.err = validate(c);
      r.ok = r.err <= options.tolerance;
      if (r.ok) r.m = time_case(c, limits.l2_bytes, options.warmup, options.iterations);
    } catch (const std::exception& e) {
      r.ok = false;
      r.error = e.what();
    }
    cuda::empty_cache();  // the next case starts from the same (empty) cache
    if (!r.ok) failures++;
    fmt::print(stderr, "  {:<46} {}\n", c.name(),
               r.ok ? fmt::format("{:.4f} ms (err {:.1e})", r.m.median_ms, r.err)
                    : fmt::format("FAIL {}",
                                  r.error.empty() ? fmt::format("err {:.2e}", r.err) : r.error));
  }

  nlohmann::json peer = nlohmann::json::object();
  if (options.peers && !cases.empty()) {
    std::vector<BenchCase> specs;
    for (const auto& c : cases) {
      nlohmann::json spec = c.spec();
      spec["l2_bytes"] = limits.l2_bytes;  // the peer rotates its inputs the same way
      specs.push_back(BenchCase{c.name(), c.shape(), spec, {}});
    }
    Options peer_options;
    peer_options.warmup = options.warmup;
    peer_options.iterations = options.iterations;
    peer_options.min_seconds = 0;
    peer = run_peer("gpu_ops.py", specs, peer_options, 1, "cuda");
  }
  const bool have_peer = peer.contains("results") && peer["results"].size() == cases.size();
  const std::string torch_label =
      have_peer ? fmt::format("torch {}", peer.value("torch", std::string("?"))) : "torch";

  fmt::print("\n{:<46} {:>16} {:>7} {:>9} {:>7} {:>5} {:>7} {:>5} {:>9} {:>7} {:>9}\n", "case",
             "input (NHWC)", "launch", "ms", "GB/s", "%bw", "TFLOP/s", "%fp32", torch_label + " ms",
             "torch/us", "model us*");
  nlohmann::json out = {{"suite", "ops"},
                        {"device", "cuda"},
                        {"gpu", limits.gpu},
                        {"copy_gbps", limits.copy_gbps},
                        {"sgemm_tflops", limits.sgemm_tflops},
                        {"l2_bytes", limits.l2_bytes},
                        {"torch", have_peer ? peer.value("torch", std::string()) : std::string()},
                        {"failures", failures},
                        {"cases", nlohmann::json::array()}};
  for (size_t i = 0; i < cases.size(); ++i) {
    const TimedOp& c = cases[i];
    const Row& r = rows[i];
    double theirs = 0;
    if (have_peer && peer["results"][i].contains("median_ms") &&
        peer["results"][i]["median_ms"].is_number()) {
      theirs = peer["results"][i]["median_ms"].get<double>();
    }
    const double s = r.m.median_ms * 1e-3;
    const double gbps = r.ok ? c.bytes() / s / 1e9 : 0;
    const double tflops = r.ok && c.flops() > 0 ? c.flops() / s / 1e12 : 0;
    const std::string torch_ms = theirs > 0 ? fixed(theirs, 4) : "-";
    if (r.ok) {
      fmt::print("{:<46} {:>16} {:>7} {:>9} {:>7} {:>5} {:>7} {:>5} {:>9} {:>7} {:>9}\n", c.name(),
                 c.shape(), fixed(r.m.launches, 0), fixed(r.m.median_ms, 4), fixed(gbps, 0),
                 fixed(100 * gbps / limits.copy_gbps, 0), c.flops() > 0 ? fixed(tflops, 2) : "-",
                 c.flops() > 0 ? fixed(100 * tflops / limits.sgemm_tflops, 0) : "-", torch_ms,
                 theirs > 0 ? fixed(theirs / r.m.median_ms, 2) + "x" : "-", fixed(r.m.model_us, 1));
    } else {
      fmt::print("{:<46} {:>16} FAIL ({}) {:>9}\n", c.name(), c.shape(),
                 r.error.empty() ? fmt::format("max rel err {:.2e}", r.err) : r.error, torch_ms);
    }
    out["cases"].push_back(
        {{"name", c.name()},
         {"shape", c.shape()},
         {"ok", r.ok},
         {"max_rel_err", std::isfinite(r.err) ? nlohmann::json(r.err) : nlohmann::json("inf")},
         {"error", r.error},
         {"fusenas_ms", r.ok ? nlohmann::json(r.m.median_ms) : nlohmann::json()},
         {"launches", r.m.launches},
         {"model_h100_eager_us", r.m.model_us},
         {"sets", r.m.sets},
         {"gbps", gbps},
         {"tflops", tflops},
         {"bytes", c.bytes()},
         {"flops", c.flops()},
         {"torch_ms", theirs > 0 ? nlohmann::json(theirs) : nlohmann::json()}});
  }
  fmt::print(
      "\nlaunch: engine launch sites per call (one per raw launcher, which may start a few "
      "kernels, or cuBLAS/cuDNN call); %bw: of the copy ceiling; %fp32: of the SGEMM ceiling; "
      "torch/us > 1 means FuseNAS is faster. torch runs NCHW with cudnn.benchmark on and TF32 "
      "off.\n* model us: a modelled H100 time per call, not a measurement: per launch max(bytes / "
      "3.35 TB/s, FLOPs / 60 TFLOP/s) + 2 us (eager), from the costs the launch sites state "
      "(FUSENAS_LAUNCH_LOG).\n");
  if (failures > 0) fmt::print("{} case(s) FAILED validation against the CPU\n", failures);
  if (!options.json_path.empty()) io::write_file_atomic(options.json_path, out.dump(2) + "\n");
  return failures > 0 ? 1 : 0;
}

#else  // a build without CUDA

int run_gpu_op_suite(const GpuSuiteOptions&) {
  FUSENAS_FAIL("bench was built without CUDA: --device cuda is not available");
}

#endif  // FUSENAS_BENCH_CUDA

}  // namespace fusenas::bench
