"""Pure rules of Basic Memory Cloud authentication: values, policies and ports, with no I/O."""
