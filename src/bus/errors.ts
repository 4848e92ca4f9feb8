/**
 * A consumer group's offsets cannot be set while it has live members (Kafka refuses it, and
 * the embedded bus does the same). Typed so callers such as replay can wait for the members
 * to leave instead of reading the message.
 */
export class GroupHasMembersError extends Error {
  readonly groupId: string;

  constructor(groupId: string, detail = '', options?: ErrorOptions) {
    super(`setCommitted: group ${groupId} has ${detail ? detail + ' ' : ''}live member(s); close them first`, options);
    this.name = 'GroupHasMembersError';
    this.groupId = groupId;
  }
}
