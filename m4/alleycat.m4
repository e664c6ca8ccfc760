# ALLEYCAT_REQUIRE_PKG(VARIABLE-PREFIX, MODULES, DEBIAN-PACKAGE)
# ----------------------------------------------------------------
# Find a required library through pkg-config; when it is missing, stop with
# a message that names the Debian package that provides it.
AC_DEFUN([ALLEYCAT_REQUIRE_PKG],
[PKG_CHECK_MODULES([$1], [$2], [],
  [AC_MSG_ERROR([$2 was not found ($$1_PKG_ERRORS); on Debian: apt-get install $3])])])

# ALLEYCAT_TEST_PKG(VARIABLE-PREFIX, MODULES, DEBIAN-PACKAGE)
# -------------------------------------------------------------
# Find a library only the tests need: when it is missing, warn (naming the
# Debian package) and leave HAVE_<VARIABLE-PREFIX> false, so the program
# still builds and `make check` can say what to install.
AC_DEFUN([ALLEYCAT_TEST_PKG],
[PKG_CHECK_MODULES([$1], [$2], [alleycat_have_$1=yes],
  [alleycat_have_$1=no
   AC_MSG_WARN([$2 was not found ($$1_PKG_ERRORS): the program builds, but make check needs it; on Debian: apt-get install $3])])
AM_CONDITIONAL([HAVE_$1], [test "x$alleycat_have_$1" = xyes])])
