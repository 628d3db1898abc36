import type { RichMessage } from '@imbot/core';
/**
 * What a user's client sends: the text as a `TIMTextElem`, a picture as a `TIMImageElem` listing the
 * original (type 1), a large copy (2) and a thumbnail (3) at URLs of their own, as the cloud serves
 * them, and a file as a `TIMFileElem`.
 */
export function userMsgBody(text: string, attachment: RichMessage | undefined): unknown[] {
  const body: unknown[] =
    text === '' && attachment ? [] : [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }];
  if (attachment?.type === 'image') {
    const sizes = [
      { Type: 1, URL: attachment.url },
      { Type: 2, URL: `${attachment.url}?imageMogr2/thumbnail/720x` },
      { Type: 3, URL: `${attachment.url}?imageMogr2/thumbnail/198x` },
    ];
    body.push({
      MsgType: 'TIMImageElem',
      MsgContent: {
        UUID: attachment.url,
        ImageFormat: 255,
        ImageInfoArray: sizes.map((s) => ({ ...s, Size: 0, Width: 0, Height: 0 })),
      },
    });
  } else if (attachment?.type === 'file') {
    body.push({
      MsgType: 'TIMFileElem',
      MsgContent: { Url: attachment.url, FileName: attachment.name, FileSize: 0 },
    });
  }
  return body;
}

/** A robot's picture or file as `sendmsg` took it from core's platform: the same URL at every size. */
export function robotMsgBody(content: RichMessage & { type: 'image' | 'file' }): unknown[] {
  if (content.type === 'file') {
    return [
      { MsgType: 'TIMFileElem', MsgContent: { Url: content.url, FileName: content.name, FileSize: 0 } },
    ];
  }
  const sizes = [1, 2, 3].map((Type) => ({ Type, URL: content.url, Size: 0, Width: 0, Height: 0 }));
  return [
    { MsgType: 'TIMImageElem', MsgContent: { UUID: content.url, ImageFormat: 255, ImageInfoArray: sizes } },
  ];
}
