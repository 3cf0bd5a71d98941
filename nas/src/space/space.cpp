// The parts of the space interface that have code: the input shape's checks.
#include "fusenas/nas/space/space.h"

#include "fusenas/engine/error.h"

namespace fusenas::nas::space {

void ImageShape::validate() const {
  FUSENAS_CHECK(channels >= 1 && channels <= 4096,
                "image shape: channels must lie in [1, 4096], got {}", channels);
  FUSENAS_CHECK(size >= 1 && size <= 4096, "image shape: size must lie in [1, 4096], got {}", size);
  FUSENAS_CHECK(classes >= 2 && classes <= 100000,
                "image shape: classes must lie in [2, 100000], got {}", classes);
}

}  // namespace fusenas::nas::space
