/**
 * The data centres of Tencent Cloud Chat and their REST domains. An SDKAppID lives in exactly one;
 * calling another answers 70016/70020. The backup domains serve the same API and exist for networks
 * where the primary name is hijacked.
 */
export const tencentRegions = {
  china: { primary: 'console.tim.qq.com', backup: 'adminapi.my-imcloud.com' },
  singapore: { primary: 'adminapisgp.im.qcloud.com', backup: 'adminapisgp.my-imcloud.com' },
  seoul: { primary: 'adminapikr.im.qcloud.com', backup: 'adminapikr.my-imcloud.com' },
  tokyo: { primary: 'adminapijpn.im.qcloud.com', backup: 'adminapijpn.my-imcloud.com' },
  frankfurt: { primary: 'adminapiger.im.qcloud.com', backup: 'adminapiger.my-imcloud.com' },
  'silicon-valley': { primary: 'adminapiusa.im.qcloud.com', backup: 'adminapiusa.my-imcloud.com' },
  jakarta: { primary: 'adminapiidn.im.qcloud.com', backup: 'adminapiidn.my-imcloud.com' },
} as const;

export type TencentRegion = keyof typeof tencentRegions;
