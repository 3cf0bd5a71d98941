// nas_train's language-model mode (--task lm, or --resume of an LM run folder).
#pragma once

namespace fusenas::apps {

// The whole LM command line (its own flags); returns the process's exit status.
int lm_main(int argc, char** argv);

}  // namespace fusenas::apps
