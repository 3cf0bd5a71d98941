# install() rules and the exported FuseNAS CMake package (find_package(FuseNAS) -> FuseNAS::engine).
include(CMakePackageConfigHelpers)
if(FUSENAS_CUDA_EMULATION)
  return()  # an emulator build is for tests only: nothing to install
endif()

set(_fusenas_targets fusenas_engine fusenas_nas fusenas_kernel_headers)
if(FUSENAS_CUDA)
  list(APPEND _fusenas_targets fusenas_kernels)
endif()
install(TARGETS ${_fusenas_targets} EXPORT FuseNASTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY engine/include/ nas/include/ kernels/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT FuseNASTargets NAMESPACE FuseNAS:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/FuseNAS)

configure_package_config_file(cmake/FuseNASConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/FuseNASConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/FuseNAS)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/FuseNASConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/FuseNASConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/FuseNASConfigVersion.cmake
              cmake/FuseNASDeps.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/FuseNAS)
