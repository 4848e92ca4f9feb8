/** The agent cannot start as configured; the message names the configuration key to change. */
export class AgentStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentStartError';
  }
}
