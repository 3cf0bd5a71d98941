# Third-party dependencies, all from Debian packages.
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(ZLIB REQUIRED)
find_package(Threads REQUIRED)
# The trial database of black-box searches (nas/src/run/trial_db.cpp): libsqlite3-dev.
find_package(SQLite3 REQUIRED)
# Optional: nas_search over MPI ranks (nas/src/search/cluster.cpp): libopenmpi-dev.
find_package(MPI COMPONENTS CXX QUIET)

# Debian ships OpenBLAS' config without an imported target; wrap it in one.
find_package(OpenBLAS CONFIG QUIET)
if(NOT OpenBLAS_LIBRARIES)
  find_library(OpenBLAS_LIBRARIES NAMES openblas REQUIRED)
  find_path(OpenBLAS_INCLUDE_DIRS NAMES cblas.h PATH_SUFFIXES openblas-pthread openblas REQUIRED)
endif()
if(NOT TARGET FuseNAS_OpenBLAS)
  add_library(FuseNAS_OpenBLAS INTERFACE IMPORTED)
  set_target_properties(FuseNAS_OpenBLAS PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${OpenBLAS_INCLUDE_DIRS}"
    INTERFACE_LINK_LIBRARIES "${OpenBLAS_LIBRARIES}")
endif()

if(FUSENAS_CUDA)
  find_path(CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS} REQUIRED)
  find_library(CUDNN_LIBRARY cudnn HINTS ${CUDAToolkit_LIBRARY_DIR} REQUIRED)
  if(NOT TARGET FuseNAS_cuDNN)
    add_library(FuseNAS_cuDNN INTERFACE IMPORTED)
    set_target_properties(FuseNAS_cuDNN PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${CUDNN_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES "${CUDNN_LIBRARY}")
  endif()
endif()
