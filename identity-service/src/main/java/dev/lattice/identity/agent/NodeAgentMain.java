package dev.lattice.identity.agent;

import dev.lattice.kit.service.ServiceMain;

/**
 * Runs the node agent as its own process: {@code --agent.join.token=… --agent.trust.bundle.file=…}
 * (see {@link NodeAgentService} for every setting). Stops on Ctrl-C / SIGTERM.
 */
public final class NodeAgentMain {

  private NodeAgentMain() {}

  public static void main(String[] args) {
    ServiceMain.run(args, new NodeAgentService());
  }
}
