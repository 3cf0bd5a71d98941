// nas_darts's recurrent-cell search mode (--task lm, or --resume of such a run folder).
#pragma once

namespace fusenas::apps {

// The whole LM search command line (its own flags); returns the process's exit status.
int darts_lm_main(int argc, char** argv);

}  // namespace fusenas::apps
