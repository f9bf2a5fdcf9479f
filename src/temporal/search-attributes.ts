import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes that make runs findable by tier, asset and strategy in the Web UI and the API. */
export const MTS_TIER = defineSearchAttributeKey('MtsTier', SearchAttributeType.KEYWORD);
export const MTS_ASSETS = defineSearchAttributeKey('MtsAssets', SearchAttributeType.KEYWORD_LIST);

export const MTS_STRATEGIES = defineSearchAttributeKey('MtsStrategies', SearchAttributeType.KEYWORD_LIST);

export const MTS_SEARCH_ATTRIBUTES = [MTS_TIER, MTS_ASSETS, MTS_STRATEGIES];
