declare interface IDiscussCommandSetStrings {
  PanelTitle: string;
  Close: string;
  NotConfigured: string;
  NotAFile: string;
  SignInFailed: string;
}

declare module 'DiscussCommandSetStrings' {
  const strings: IDiscussCommandSetStrings;
  export = strings;
}
