// Cluster over MPI (Open MPI from Debian): joining the job, the ranks on each machine, and JSON
// messages as MPI_CHAR buffers. Built without MPI, joining a multi-rank job is a clear error.
#include "fusenas/nas/search/cluster.h"

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "fusenas/engine/error.h"

#ifdef FUSENAS_HAVE_MPI
#include <mpi.h>
#endif

namespace fusenas::nas {
namespace {

// The rank count mpirun announces in the environment; 0 when not started by mpirun.
int launched_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {
    if (const char* v = std::getenv(name)) return std::atoi(v);
  }
  return 0;
}

constexpr int kTag = 7;

}  // namespace

bool Cluster::available() {
#ifdef FUSENAS_HAVE_MPI
  return true;
#else
  return false;
#endif
}

#ifdef FUSENAS_HAVE_MPI

std::unique_ptr<Cluster> Cluster::join_if_launched(int* argc, char*** argv) {
  if (launched_size() < 2) return nullptr;
  MPI_Init(argc, argv);
  std::unique_ptr<Cluster> c(new Cluster());
  MPI_Comm_rank(MPI_COMM_WORLD, &c->rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &c->size_);
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, c->rank_, MPI_INFO_NULL, &local);
  MPI_Comm_rank(local, &c->local_rank_);
  MPI_Comm_size(local, &c->local_size_);
  int is_root = c->rank_ == 0 ? 1 : 0, hosts_root = 0;
  MPI_Allreduce(&is_root, &hosts_root, 1, MPI_INT, MPI_MAX, local);
  c->local_workers_ = c->local_size_ - hosts_root;
  MPI_Comm_free(&local);
  return c;
}

Cluster::~Cluster() {
  MPI_Finalize();
}

void Cluster::send(int to, const nlohmann::json& message) const {
  const std::string text = message.dump();
  MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, to, kTag, MPI_COMM_WORLD);
}

namespace {

std::pair<int, nlohmann::json> receive_from(int source) {
  // Polled every 20 ms, not MPI_Probe: Open MPI's blocking calls spin a core at 100%, which
  // rank 0 (waiting on results for minutes) would take from the workers training beside it; and
  // polling every 2 ms still cost a worker of 2 threads on 2 cores 30% (docs/results.md), as each
  // wake-up preempts one of its threads between the others' barriers.
  MPI_Status status;
  for (int flag = 0;;) {
    MPI_Iprobe(source, kTag, MPI_COMM_WORLD, &flag, &status);
    if (flag) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  int count = 0;
  MPI_Get_count(&status, MPI_CHAR, &count);
  std::string text(static_cast<size_t>(count), '\0');
  MPI_Recv(text.data(), count, MPI_CHAR, status.MPI_SOURCE, kTag, MPI_COMM_WORLD,
           MPI_STATUS_IGNORE);
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  FUSENAS_CHECK(!j.is_discarded(), "MPI: rank {} sent a message that is not JSON",
                status.MPI_SOURCE);
  return {status.MPI_SOURCE, j};
}

}  // namespace

nlohmann::json Cluster::receive(int from) const {
  return receive_from(from).second;
}

std::pair<int, nlohmann::json> Cluster::receive_any() const {
  return receive_from(MPI_ANY_SOURCE);
}

void Cluster::release_workers() const {
  if (released_) return;
  released_ = true;
  for (int w = 1; w < size_; ++w) send(w, {{"type", "quit"}});
}

void Cluster::abort(int code) const {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::abort();  // MPI_Abort does not return; this tells the compiler so
}

#else

std::unique_ptr<Cluster> Cluster::join_if_launched(int*, char***) {
  FUSENAS_CHECK(launched_size() < 2,
                "started by mpirun with {} ranks, but this build has no MPI (install "
                "libopenmpi-dev and configure again)",
                launched_size());
  return nullptr;
}

Cluster::~Cluster() = default;
void Cluster::send(int, const nlohmann::json&) const {
  FUSENAS_FAIL("MPI: this build has no MPI");
}
nlohmann::json Cluster::receive(int) const {
  FUSENAS_FAIL("MPI: this build has no MPI");
}
std::pair<int, nlohmann::json> Cluster::receive_any() const {
  FUSENAS_FAIL("MPI: this build has no MPI");
}
void Cluster::release_workers() const {}
void Cluster::abort(int code) const {
  std::exit(code);
}

#endif

}  // namespace fusenas::nas
