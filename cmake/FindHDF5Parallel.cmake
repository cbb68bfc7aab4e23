# The MPI-enabled HDF5 (Debian's libhdf5-openmpi-dev) through pkg-config, so that the
# serial HDF5 that may also be installed is never picked by accident.
# Defines HDF5Parallel::HDF5.
find_package(PkgConfig REQUIRED)
pkg_check_modules(PC_HDF5_MPI QUIET IMPORTED_TARGET hdf5-openmpi)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(HDF5Parallel REQUIRED_VARS PC_HDF5_MPI_FOUND VERSION_VAR PC_HDF5_MPI_VERSION)
if(HDF5Parallel_FOUND AND NOT TARGET HDF5Parallel::HDF5)
  add_library(HDF5Parallel::HDF5 INTERFACE IMPORTED)
  target_link_libraries(HDF5Parallel::HDF5 INTERFACE PkgConfig::PC_HDF5_MPI)
endif()
