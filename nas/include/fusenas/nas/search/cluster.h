// The MPI job a search runs in when started by mpirun: this process's rank, its place on its
// machine, and JSON messages between the coordinating rank 0 and the worker ranks.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <utility>

namespace fusenas::nas {

class Cluster {
 public:
  // Joins the MPI job when this process was started by mpirun with more than one rank (Open MPI's
  // OMPI_COMM_WORLD_SIZE, or PMI_SIZE); none otherwise, so a plain start never touches MPI.
  // Throws fusenas::Error when started by mpirun with several ranks but built without MPI.
  static std::unique_ptr<Cluster> join_if_launched(int* argc, char*** argv);
  // Whether this build can join an MPI job.
  static bool available();
  ~Cluster();  // MPI_Finalize
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  // This rank's index among the ranks on its machine, and how many there are.
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  // The worker ranks on this rank's machine (local_size() less rank 0 where it runs here: rank 0
  // sleeps while the trials train, so it takes no core).
  int local_workers() const { return local_workers_; }

  // Blocking sends and receives of one JSON message (serialised as text).
  void send(int to, const nlohmann::json& message) const;
  nlohmann::json receive(int from) const;
  // The next message from any rank, with its sender.
  std::pair<int, nlohmann::json> receive_any() const;
  // Rank 0: tells every worker rank to end ({"type": "quit"}), once; later calls do nothing. A
  // worker waiting for its setup or its next job then returns.
  void release_workers() const;
  // Ends every rank of the job (MPI_Abort): for an error on one rank that the others would wait
  // on forever.
  [[noreturn]] void abort(int code) const;

 private:
  Cluster() = default;
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1, local_workers_ = 0;
  mutable bool released_ = false;
};

}  // namespace fusenas::nas
