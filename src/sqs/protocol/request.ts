/** An SQS call, decoded from either wire protocol into the JSON protocol's shape. */
export interface SqsRequest {
  readonly protocol: 'json' | 'query';
  /** 'SendMessage', 'ReceiveMessage', ... */
  readonly action: string;
  /**
   * The call's members as the JSON protocol names them (QueueUrl, Attributes, Entries, ...). From the
   * query protocol, scalars are strings; the handlers' readers (params.ts) accept both.
   */
  readonly params: Params;
}

export type Params = { readonly [member: string]: unknown };

/** The result of an action: JSON protocol member names; undefined for actions without output. */
export type SqsResult = Record<string, unknown> | undefined;
