//===- TensorSource.cpp - Where the compiler finds weights -----------------===//
//
// Part of Frugal.
//
//===----------------------------------------------------------------------===//

#include "frontends/TensorSource.h"

frugal::TensorSource::~TensorSource() = default;
